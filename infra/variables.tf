variable "project_id" {
  description = "The Google Cloud project the service is deployed into."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id (6-30 lowercase letters, digits and hyphens)."
  }
}

variable "region" {
  description = "Region of the functions, the scheduler job and the source bucket."
  type        = string
  default     = "us-central1"
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region must be a Cloud Run region such as us-central1."
  }
}

variable "environment" {
  description = "Name of this deployment (prod, staging): a suffix of every resource name."
  type        = string
  default     = "prod"
  validation {
    condition     = can(regex("^[a-z][a-z0-9]{0,11}$", var.environment))
    error_message = "environment must be 1-12 lowercase letters and digits, starting with a letter."
  }
}

variable "source_archive" {
  description = "Path of the function source archive made by `npm run package` (dist/function-source.zip)."
  type        = string
  default     = "../dist/function-source.zip"
  validation {
    condition     = endswith(var.source_archive, ".zip")
    error_message = "source_archive must be the .zip that `npm run package` writes."
  }
}

variable "firestore_location" {
  description = "Location of the Firestore database (a region or multi-region, e.g. nam5)."
  type        = string
  default     = "nam5"
  validation {
    condition     = can(regex("^[a-z0-9-]+$", var.firestore_location))
    error_message = "firestore_location must be a Firestore location id such as nam5, eur3 or us-central1."
  }
}

variable "kms_algorithm" {
  description = "Signing key algorithm: EC P-256, EC P-384 or RSA-PSS (the service supports these)."
  type        = string
  default     = "EC_SIGN_P256_SHA256"
  validation {
    condition     = contains(["EC_SIGN_P256_SHA256", "EC_SIGN_P384_SHA384", "RSA_SIGN_PSS_2048_SHA256", "RSA_SIGN_PSS_3072_SHA256", "RSA_SIGN_PSS_4096_SHA256", "RSA_SIGN_PSS_4096_SHA512"], var.kms_algorithm)
    error_message = "kms_algorithm must be EC_SIGN_P256_SHA256, EC_SIGN_P384_SHA384 or one of the RSA_SIGN_PSS_* algorithms."
  }
}

variable "kms_protection_level" {
  description = "SOFTWARE or HSM."
  type        = string
  default     = "SOFTWARE"
  validation {
    condition     = contains(["SOFTWARE", "HSM"], var.kms_protection_level)
    error_message = "kms_protection_level must be SOFTWARE or HSM."
  }
}

variable "kms_key_version" {
  description = "The key version that signs (its number). Raise it to rotate; older versions keep verifying."
  type        = number
  default     = 1
  validation {
    condition     = var.kms_key_version >= 1 && floor(var.kms_key_version) == var.kms_key_version
    error_message = "kms_key_version must be a whole number from 1."
  }
}

variable "reporters" {
  description = "Identities (service account emails) allowed to report: the builds' service accounts."
  type        = list(string)
  validation {
    condition     = length(var.reporters) > 0 && alltrue([for e in var.reporters : can(regex("^[^@\\s]+@[^@\\s]+$", e))])
    error_message = "reporters must list at least one email address."
  }
}

variable "readers" {
  description = "Identities allowed to read provenance and task status (release tooling). Empty with public_reads = true."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for e in var.readers : can(regex("^[^@\\s]+@[^@\\s]+$", e))])
    error_message = "readers must be email addresses."
  }
}

variable "operators" {
  description = "Identities allowed to send FAILED tasks back to assembly (re-drive)."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for e in var.operators : can(regex("^[^@\\s]+@[^@\\s]+$", e))])
    error_message = "operators must be email addresses."
  }
}

variable "public_reads" {
  description = "Serve provenance and task status to anyone (keys are always public)."
  type        = bool
  default     = false
}

variable "builder_id" {
  description = "runDetails.builder.id of every statement (what `provenance verify --builder-id` checks). Default: the selfReport URL."
  type        = string
  default     = ""
  validation {
    condition     = var.builder_id == "" || can(regex("^https://", var.builder_id))
    error_message = "builder_id must be empty (the selfReport URL) or an https:// URI."
  }
}

variable "function_memory" {
  description = "Memory of each function, e.g. { selfReport = \"256Mi\" }; unset ones get 256Mi (the assembler 512Mi)."
  type        = map(string)
  default     = {}
  validation {
    condition     = alltrue([for m in values(var.function_memory) : can(regex("^[0-9]+(Mi|Gi)$", m))])
    error_message = "function_memory values are sizes like 256Mi or 1Gi."
  }
}

variable "function_timeout_seconds" {
  description = "Request timeout of each function; the backend deadline and the claim lease are derived from the assembler's."
  type        = number
  default     = 60
  validation {
    condition     = var.function_timeout_seconds >= 30 && var.function_timeout_seconds <= 540
    error_message = "function_timeout_seconds must be from 30 to 540."
  }
}

variable "function_concurrency" {
  description = "Requests one instance of selfReport and provenanceApi serves at once."
  type        = number
  default     = 80
  validation {
    condition     = var.function_concurrency >= 1 && var.function_concurrency <= 1000
    error_message = "function_concurrency must be from 1 to 1000."
  }
}

variable "max_instances" {
  description = "Most instances of each function."
  type        = number
  default     = 20
  validation {
    condition     = var.max_instances >= 1 && var.max_instances <= 1000
    error_message = "max_instances must be from 1 to 1000."
  }
}

variable "max_delivery_attempts" {
  description = "Deliveries of one message before it goes to the dead-letter topic."
  type        = number
  default     = 10
  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be from 5 to 100 (Pub/Sub's limits)."
  }
}

variable "sweep_schedule" {
  description = "Cron schedule of the expiry and recovery sweep."
  type        = string
  default     = "* * * * *"
  validation {
    condition     = length(split(" ", trimspace(var.sweep_schedule))) == 5
    error_message = "sweep_schedule must be a five-field cron expression, e.g. \"* * * * *\"."
  }
}

variable "report_retention_days" {
  description = "How long report documents are kept (Firestore TTL on expireAt)."
  type        = number
  default     = 90
  validation {
    condition     = var.report_retention_days >= 1
    error_message = "report_retention_days must be at least 1."
  }
}

variable "oci_attach" {
  description = "Deprecated (removed in the next release): true adds \"oci\" to publish_to."
  type        = bool
  default     = false
}

variable "max_statement_bytes" {
  description = "MAX_STATEMENT_BYTES: a task whose signed statement would be larger ends FAILED instead of being signed. The assembler needs about 110 MiB plus 16x this (the 16 MiB default peaked at 365 MiB of the 512Mi default in bench:assemble's limits section): raise function_memory with it."
  type        = number
  default     = 16777216
  validation {
    condition     = var.max_statement_bytes >= 65536 && var.max_statement_bytes <= 67108864 && floor(var.max_statement_bytes) == var.max_statement_bytes
    error_message = "max_statement_bytes must be an integer from 65536 (64 KiB) to 67108864 (64 MiB)."
  }
}

variable "read_page_envelopes" {
  description = "READ_PAGE_ENVELOPES: envelopes per page of GET /v1/artifacts/sha256:<hex>/provenance and /bundle (the next page's link is in the Link header)."
  type        = number
  default     = 20
  validation {
    condition     = var.read_page_envelopes >= 1 && var.read_page_envelopes <= 1000 && floor(var.read_page_envelopes) == var.read_page_envelopes
    error_message = "read_page_envelopes must be an integer from 1 to 1000."
  }
}

variable "binauthz_gate" {
  description = "Create the deploy gate's Binary Authorization attestor, its Container Analysis note, its KMS key and the gate's service account (docs/gating.md)."
  type        = bool
  default     = false
}

variable "publish_to" {
  description = "Where signed provenance is published beside the artifacts (PUBLISH_TO): any of oci, gcs, cipd. Empty: served by the read API only."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for s in var.publish_to : contains(["oci", "gcs", "cipd"], s)])
    error_message = "publish_to entries must be oci, gcs or cipd."
  }
}

variable "oci_registries" {
  description = "OCI_REGISTRIES: the only registries the OCI sink writes to, host[:port][/repository/prefix]. An Artifact Registry entry names LOCATION-docker.pkg.dev/PROJECT/REPOSITORY[/prefix], and the assembler and the sweep get artifactregistry.writer on that repository only."
  type        = list(string)
  default     = []
  validation {
    condition = alltrue([for e in var.oci_registries : can(regex("^[a-z0-9.-]+(:[1-9][0-9]{0,4})?(/[a-z0-9._-]+)*$", e)) && (
      !can(regex("^[a-z0-9-]+-docker\\.pkg\\.dev", e)) || can(regex("^[a-z0-9-]+-docker\\.pkg\\.dev/[a-z][a-z0-9-]{4,28}[a-z0-9]/[a-z0-9._-]+(/[a-z0-9._-]+)*$", e))
    )])
    error_message = "oci_registries entries must be host[:port][/prefix]; an Artifact Registry entry must name LOCATION-docker.pkg.dev/PROJECT/REPOSITORY (IAM is granted per repository)."
  }
}

variable "gcs_buckets" {
  description = "GCS_BUCKETS: the only buckets the GCS sink writes to; the assembler and the sweep get storage.objectCreator and storage.objectViewer on each (create-only: no role that deletes or overwrites)."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for b in var.gcs_buckets : can(regex("^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$", b)) && !startswith(b, "goog")])
    error_message = "gcs_buckets entries must be bucket names (no gs:// and no path)."
  }
}

variable "cipd_hosts" {
  description = "CIPD_HOSTS: the only CIPD backends the CIPD sink writes to (host names). Write access is granted in CIPD's own ACLs, not in IAM."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for h in var.cipd_hosts : can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[1-9][0-9]{0,4})?$", h))])
    error_message = "cipd_hosts entries must be host names such as chrome-infra-packages.appspot.com."
  }
}

variable "publish_concurrency" {
  description = "PUBLISH_CONCURRENCY: publications in flight at once per task (the assembler and the sweep)."
  type        = number
  default     = 8
  validation {
    condition     = var.publish_concurrency >= 1 && var.publish_concurrency <= 64 && floor(var.publish_concurrency) == var.publish_concurrency
    error_message = "publish_concurrency must be an integer from 1 to 64."
  }
}
