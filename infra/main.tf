# The whole deployment: APIs, Firestore (indexes and TTL from
# firestore.indexes.json), Pub/Sub with retry and dead-lettering, the KMS
# signing key, the four functions from one source archive, the sweep's
# schedule, one service account per function with only what it needs, and the
# invoker bindings. docs/security.md has the IAM table this must equal
# (test/unit/terraform.test.ts checks it).

locals {
  suffix  = var.environment
  indexes = jsondecode(file("${path.module}/firestore.indexes.json"))
  functions = {
    selfReport         = { sa = "report", signature = "http" }
    assembleProvenance = { sa = "assembler", signature = "cloudevent" }
    provenanceApi      = { sa = "reader", signature = "http" }
    expireTasks        = { sa = "sweeper", signature = "cloudevent" }
  }
  function_names = { for k, _ in local.functions : k => lower(replace("${k}-${local.suffix}", "/([A-Z])/", "-$1")) }
  key_version    = "${google_kms_crypto_key.signing.id}/cryptoKeyVersions/${var.kms_key_version}"
  # The functions' cloudfunctions.net URLs are known before they exist (the
  # run.app ones are not), so the audience tokens carry can be set in their own
  # environment: build steps call these URLs.
  urls       = { for k, name in local.function_names : k => "https://${var.region}-${var.project_id}.cloudfunctions.net/${name}" }
  builder_id = var.builder_id != "" ? var.builder_id : local.urls["selfReport"]
  common_env = {
    GOOGLE_CLOUD_PROJECT      = var.project_id
    LOG_EXECUTION_ID          = "true"
    FIRESTORE_DATABASE        = google_firestore_database.db.name
    EVENTS                    = "pubsub"
    UPLOAD_COMPLETE_TOPIC     = google_pubsub_topic.upload_complete.name
    PROVENANCE_EVENTS_TOPIC   = google_pubsub_topic.events.name
    REPORT_RETENTION_DAYS     = tostring(var.report_retention_days)
    BACKEND_DEADLINE_SECONDS  = tostring(floor(var.function_timeout_seconds / 4))
    ASSEMBLY_LEASE_SECONDS    = tostring(var.function_timeout_seconds * 2)
    RECOVERY_GRACE_SECONDS    = tostring(var.function_timeout_seconds * 2 + 120)
    MAX_STATEMENT_BYTES       = tostring(var.max_statement_bytes)
    READ_PAGE_ENVELOPES       = tostring(var.read_page_envelopes)
  }
  # Publishing (docs/publishing.md): only the assembler and the sweep publish.
  publish_to = distinct(concat(var.publish_to, var.oci_attach ? ["oci"] : []))
  publish_env = {
    PUBLISH_TO          = join(",", local.publish_to)
    OCI_REGISTRIES      = join(",", var.oci_registries)
    GCS_BUCKETS         = join(",", var.gcs_buckets)
    CIPD_HOSTS          = join(",", var.cipd_hosts)
    PUBLISH_CONCURRENCY = tostring(var.publish_concurrency)
  }
  # Artifact Registry repositories named by oci_registries: [location, project, repository].
  ar_repositories = distinct([
    for e in var.oci_registries : regex("^([a-z0-9-]+)-docker\\.pkg\\.dev/([a-z0-9-]+)/([a-z0-9._-]+)", e)
    if contains(local.publish_to, "oci") && can(regex("^[a-z0-9-]+-docker\\.pkg\\.dev/", e))
  ])
  publish_buckets = [for b in var.gcs_buckets : b if contains(local.publish_to, "gcs")]
}

resource "google_project_service" "apis" {
  for_each           = toset(["cloudfunctions.googleapis.com", "run.googleapis.com", "cloudbuild.googleapis.com", "artifactregistry.googleapis.com", "firestore.googleapis.com", "pubsub.googleapis.com", "cloudkms.googleapis.com", "cloudscheduler.googleapis.com", "eventarc.googleapis.com", "logging.googleapis.com", "monitoring.googleapis.com", "iam.googleapis.com"])
  service            = each.value
  disable_on_destroy = false
}

# --- Firestore ---------------------------------------------------------------

resource "google_firestore_database" "db" {
  name                              = "provenance-${local.suffix}"
  location_id                       = var.firestore_location
  type                              = "FIRESTORE_NATIVE"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  deletion_policy                   = "ABANDON"
  depends_on                        = [google_project_service.apis]
}

# One source of truth: every field override in firestore.indexes.json becomes
# a field: its single-field indexes (none = exempt from indexing) and TTL.
resource "google_firestore_field" "fields" {
  for_each   = { for f in local.indexes.fieldOverrides : "${f.collectionGroup}.${f.fieldPath}" => f }
  database   = google_firestore_database.db.name
  collection = each.value.collectionGroup
  field      = each.value.fieldPath

  index_config {
    dynamic "indexes" {
      for_each = each.value.indexes
      content {
        order        = lookup(indexes.value, "order", null)
        array_config = lookup(indexes.value, "arrayConfig", null)
        query_scope  = lookup(indexes.value, "queryScope", "COLLECTION")
      }
    }
  }

  dynamic "ttl_config" {
    for_each = lookup(each.value, "ttl", false) ? [1] : []
    content {}
  }
}

# Composite indexes, from the same file's "indexes": the read API's page of
# envelopes naming a subject, oldest first (subjects contains, signedAt, id).
resource "google_firestore_index" "composite" {
  for_each    = { for i in local.indexes.indexes : "${i.collectionGroup}.${join(".", [for f in i.fields : f.fieldPath])}" => i }
  database    = google_firestore_database.db.name
  collection  = each.value.collectionGroup
  query_scope = lookup(each.value, "queryScope", "COLLECTION")

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path   = fields.value.fieldPath
      order        = lookup(fields.value, "order", null)
      array_config = lookup(fields.value, "arrayConfig", null)
    }
  }
}

# --- Pub/Sub -----------------------------------------------------------------

resource "google_pubsub_topic" "upload_complete" {
  name       = "upload-complete-${local.suffix}"
  depends_on = [google_project_service.apis]
}

resource "google_pubsub_topic" "sweep" {
  name       = "sweep-${local.suffix}"
  depends_on = [google_project_service.apis]
}

resource "google_pubsub_topic" "events" {
  name       = "provenance-events-${local.suffix}"
  depends_on = [google_project_service.apis]
}

resource "google_pubsub_topic" "dead_letter" {
  name       = "provenance-dead-letter-${local.suffix}"
  depends_on = [google_project_service.apis]
}

# Dead-lettered messages are kept here for an operator to look at and replay.
resource "google_pubsub_subscription" "dead_letter" {
  name                       = "provenance-dead-letter-${local.suffix}"
  topic                      = google_pubsub_topic.dead_letter.id
  message_retention_duration = "604800s"
  ack_deadline_seconds       = 60
}

# Push subscriptions (rather than Eventarc triggers) so that retry backoff and
# dead-lettering are ours to set; the push identity calls the function.
resource "google_pubsub_subscription" "push" {
  for_each             = { assembleProvenance = google_pubsub_topic.upload_complete.id, expireTasks = google_pubsub_topic.sweep.id }
  name                 = "${local.function_names[each.key]}-push"
  topic                = each.value
  ack_deadline_seconds = min(600, var.function_timeout_seconds + 30)

  push_config {
    push_endpoint = google_cloudfunctions2_function.fn[each.key].url
    oidc_token {
      service_account_email = google_service_account.sa["pusher"].email
      audience              = google_cloudfunctions2_function.fn[each.key].url
    }
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }
}

data "google_project" "this" {}

locals {
  pubsub_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

# Dead-lettering: the Pub/Sub service agent publishes to the dead-letter topic
# and acknowledges on the source subscriptions.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  topic  = google_pubsub_topic.dead_letter.id
  role   = "roles/pubsub.publisher"
  member = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each     = google_pubsub_subscription.push
  subscription = each.value.id
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

# The service agent mints the push identity's OIDC tokens.
resource "google_service_account_iam_member" "pusher_token_creator" {
  service_account_id = google_service_account.sa["pusher"].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}

# --- KMS ---------------------------------------------------------------------

resource "google_kms_key_ring" "ring" {
  name       = "provenance-${local.suffix}"
  location   = "global"
  depends_on = [google_project_service.apis]
}

resource "google_kms_crypto_key" "signing" {
  name     = "provenance-signing"
  key_ring = google_kms_key_ring.ring.id
  purpose  = "ASYMMETRIC_SIGN"

  version_template {
    algorithm        = var.kms_algorithm
    protection_level = var.kms_protection_level
  }

  lifecycle {
    prevent_destroy = true
  }
}

# --- Service accounts and IAM (the table in docs/security.md) -----------------

resource "google_service_account" "sa" {
  for_each     = toset(["report", "assembler", "reader", "sweeper", "pusher"])
  account_id   = "prov-${each.key}-${local.suffix}"
  display_name = "build provenance: ${each.key} (${local.suffix})"
}

resource "google_project_iam_member" "firestore_user" {
  for_each = toset(["report", "assembler", "reader", "sweeper"])
  project  = var.project_id
  role     = "roles/datastore.user"
  member   = google_service_account.sa[each.key].member
}

# Publishing: the assembler publishes, the sweep retries. Write access only on
# the Artifact Registry repositories and buckets on the allowlists, never
# project-wide (a reporter names the destination; the allowlist and these
# grants bound where it can be).
resource "google_artifact_registry_repository_iam_member" "publish_writer" {
  for_each = {
    for p in setproduct(local.ar_repositories, ["assembler", "sweeper"]) : "${join("/", p[0])} ${p[1]}" => { repo = p[0], sa = p[1] }
  }
  location   = each.value.repo[0]
  project    = each.value.repo[1]
  repository = each.value.repo[2]
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.sa[each.value.sa].member
}

# Create-only: objectCreator cannot delete or overwrite; objectViewer reads an
# existing object to tell a retry (same bytes) from a conflict.
resource "google_storage_bucket_iam_member" "publish_creator" {
  for_each = { for p in setproduct(local.publish_buckets, ["assembler", "sweeper"]) : "${p[0]} ${p[1]}" => { bucket = p[0], sa = p[1] } }
  bucket   = each.value.bucket
  role     = "roles/storage.objectCreator"
  member   = google_service_account.sa[each.value.sa].member
}

resource "google_storage_bucket_iam_member" "publish_viewer" {
  for_each = { for p in setproduct(local.publish_buckets, ["assembler", "sweeper"]) : "${p[0]} ${p[1]}" => { bucket = p[0], sa = p[1] } }
  bucket   = each.value.bucket
  role     = "roles/storage.objectViewer"
  member   = google_service_account.sa[each.value.sa].member
}

resource "google_pubsub_topic_iam_member" "publishers" {
  for_each = {
    report-upload    = { topic = google_pubsub_topic.upload_complete.id, sa = "report" }
    sweeper-upload   = { topic = google_pubsub_topic.upload_complete.id, sa = "sweeper" }
    assembler-events = { topic = google_pubsub_topic.events.id, sa = "assembler" }
    sweeper-events   = { topic = google_pubsub_topic.events.id, sa = "sweeper" }
  }
  topic  = each.value.topic
  role   = "roles/pubsub.publisher"
  member = google_service_account.sa[each.value.sa].member
}

resource "google_kms_crypto_key_iam_member" "signer" {
  crypto_key_id = google_kms_crypto_key.signing.id
  role          = "roles/cloudkms.signerVerifier"
  member        = google_service_account.sa["assembler"].member
}

resource "google_kms_crypto_key_iam_member" "public_key_viewer" {
  crypto_key_id = google_kms_crypto_key.signing.id
  role          = "roles/cloudkms.publicKeyViewer"
  member        = google_service_account.sa["reader"].member
}

# /v1/keys lists every version that is not destroyed (after rotations).
resource "google_kms_crypto_key_iam_member" "version_lister" {
  crypto_key_id = google_kms_crypto_key.signing.id
  role          = "roles/cloudkms.viewer"
  member        = google_service_account.sa["reader"].member
}

# --- Functions ---------------------------------------------------------------

resource "google_storage_bucket" "source" {
  name                        = "${var.project_id}-provenance-source-${local.suffix}"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  versioning {
    enabled = true
  }
}

resource "google_storage_bucket_object" "source" {
  # The archive's digest in its name: a new archive is a new object, so the functions redeploy.
  name   = "function-source-${filesha256(var.source_archive)}.zip"
  bucket = google_storage_bucket.source.name
  source = var.source_archive
}

resource "google_cloudfunctions2_function" "fn" {
  for_each = local.functions
  name     = local.function_names[each.key]
  location = var.region

  build_config {
    runtime     = "nodejs24"
    entry_point = each.key
    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    available_memory                 = lookup(var.function_memory, each.key, each.key == "assembleProvenance" ? "512Mi" : "256Mi")
    timeout_seconds                  = var.function_timeout_seconds
    max_instance_count               = var.max_instances
    max_instance_request_concurrency = each.value.signature == "http" ? var.function_concurrency : 1
    available_cpu                    = "1"
    ingress_settings                 = "ALLOW_ALL"
    service_account_email            = google_service_account.sa[each.value.sa].email
    environment_variables = merge(local.common_env, {
      AUDIENCE   = local.urls[each.key]
      BUILDER_ID = local.builder_id
    }, each.key == "selfReport" ? {
      REPORTER_ALLOWLIST = join(",", var.reporters)
    } : {}, each.key == "assembleProvenance" ? {
      KMS_KEY_VERSION = local.key_version
    } : {}, contains(["assembleProvenance", "expireTasks"], each.key) ? local.publish_env : {}, each.key == "provenanceApi" ? {
      KMS_KEY_VERSION    = local.key_version
      READ_ACCESS        = var.public_reads ? "public" : "allowlist"
      READER_ALLOWLIST   = join(",", var.readers)
      OPERATOR_ALLOWLIST = join(",", var.operators)
    } : {})
  }

  depends_on = [google_project_service.apis]
}

# --- Who may call what --------------------------------------------------------

locals {
  invokers = merge(
    { for e in var.reporters : "selfReport:${e}" => { fn = "selfReport", member = "serviceAccount:${e}" } },
    var.public_reads ? { "provenanceApi:allUsers" = { fn = "provenanceApi", member = "allUsers" } } : { for e in distinct(concat(var.readers, var.operators)) : "provenanceApi:${e}" => { fn = "provenanceApi", member = can(regex("gserviceaccount\\.com$", e)) ? "serviceAccount:${e}" : "user:${e}" } },
    var.public_reads ? { for e in var.operators : "provenanceApi:${e}" => { fn = "provenanceApi", member = can(regex("gserviceaccount\\.com$", e)) ? "serviceAccount:${e}" : "user:${e}" } } : {},
    { for fn in ["assembleProvenance", "expireTasks"] : "${fn}:pusher" => { fn = fn, member = google_service_account.sa["pusher"].member } },
  )
}

resource "google_cloud_run_v2_service_iam_member" "invoker" {
  for_each = local.invokers
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.value.fn].service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value.member
}

# --- The sweep's schedule -------------------------------------------------------
# Cloud Scheduler publishes as its own service agent (which may publish by default).

resource "google_cloud_scheduler_job" "sweep" {
  name      = "provenance-sweep-${local.suffix}"
  region    = var.region
  schedule  = var.sweep_schedule
  time_zone = "Etc/UTC"

  pubsub_target {
    topic_name = google_pubsub_topic.sweep.id
    data       = base64encode("{}")
  }

  depends_on = [google_project_service.apis]
}

# --- Alerts (docs/operations.md says what each means) ---------------------------

resource "google_logging_metric" "failed_tasks" {
  name   = "provenance/failed-tasks-${local.suffix}"
  filter = "resource.type=\"cloud_run_revision\" AND jsonPayload.message=\"task failed\""
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
  }
}

resource "google_logging_metric" "assembly_errors" {
  name   = "provenance/assembly-errors-${local.suffix}"
  filter = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${local.function_names["assembleProvenance"]}\" AND severity>=ERROR"
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
  }
}

resource "google_monitoring_alert_policy" "alerts" {
  for_each = {
    dead-lettered   = { filter = "resource.type = \"pubsub_subscription\" AND metric.type = \"pubsub.googleapis.com/subscription/dead_letter_message_count\"", what = "messages were dead-lettered: a function refused them max_delivery_attempts times" }
    failed-tasks    = { filter = "resource.type = \"cloud_run_revision\" AND metric.type = \"logging.googleapis.com/user/${google_logging_metric.failed_tasks.name}\"", what = "a task became FAILED: UPLOAD_COMPLETE without provenance after its assembly attempts" }
    assembly-errors = { filter = "resource.type = \"cloud_run_revision\" AND metric.type = \"logging.googleapis.com/user/${google_logging_metric.assembly_errors.name}\"", what = "the assembler logged errors (KMS, Firestore, a bug)" }
  }
  display_name = "provenance ${local.suffix}: ${each.key}"
  combiner     = "OR"

  conditions {
    display_name = each.value.what
    condition_threshold {
      filter          = each.value.filter
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_DELTA"
      }
    }
  }

  documentation {
    content = "${each.value.what}. See docs/operations.md, \"Alerts\"."
  }
}
