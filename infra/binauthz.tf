# The deploy gate (binauthz_gate = true): a Binary Authorization attestor
# whose attestations the gate creates only for images whose provenance it has
# verified against a policy (docs/gating.md). The attestor's Container
# Analysis note, its own KMS key (EC P-256: Binary Authorization's PKIX
# attestors and VSA verifiers both check it), and a service account for the
# gate step with only what it needs (docs/security.md, "the deploy gate").
# No google_binary_authorization_policy here: a project has one, and
# replacing it from this module would drop whatever else it requires;
# docs/gating.md shows how to add the attestor to it.

locals {
  gate = var.binauthz_gate ? toset(["gate"]) : toset([])
}

resource "google_project_service" "binauthz_apis" {
  for_each           = var.binauthz_gate ? toset(["binaryauthorization.googleapis.com", "containeranalysis.googleapis.com"]) : toset([])
  service            = each.value
  disable_on_destroy = false
}

resource "google_service_account" "gate" {
  for_each     = local.gate
  account_id   = "prov-gate-${local.suffix}"
  display_name = "build provenance: deploy gate (${local.suffix})"
}

resource "google_kms_crypto_key" "gate" {
  for_each = local.gate
  name     = "binauthz-attestor"
  key_ring = google_kms_key_ring.ring.id
  purpose  = "ASYMMETRIC_SIGN"

  version_template {
    algorithm        = "EC_SIGN_P256_SHA256"
    protection_level = var.kms_protection_level
  }

  lifecycle {
    prevent_destroy = true
  }
}

data "google_kms_crypto_key_version" "gate" {
  for_each   = local.gate
  crypto_key = google_kms_crypto_key.gate[each.key].id
}

resource "google_container_analysis_note" "gate" {
  for_each = local.gate
  name     = "provenance-gate-${local.suffix}"

  attestation_authority {
    hint {
      human_readable_name = "Provenance verified against the release policy (${local.suffix})"
    }
  }
  depends_on = [google_project_service.binauthz_apis]
}

resource "google_binary_authorization_attestor" "gate" {
  for_each    = local.gate
  name        = "provenance-gate-${local.suffix}"
  description = "Images whose SLSA provenance the deploy gate verified (provenance verify --policy)"

  attestation_authority_note {
    note_reference = google_container_analysis_note.gate[each.key].name
    public_keys {
      id = data.google_kms_crypto_key_version.gate[each.key].id
      pkix_public_key {
        public_key_pem      = data.google_kms_crypto_key_version.gate[each.key].public_key[0].pem
        signature_algorithm = data.google_kms_crypto_key_version.gate[each.key].public_key[0].algorithm
      }
    }
  }
}

# The gate signs attestations and VSAs with the attestor's key, and only that key.
resource "google_kms_crypto_key_iam_member" "gate_signer" {
  for_each      = local.gate
  crypto_key_id = google_kms_crypto_key.gate[each.key].id
  role          = "roles/cloudkms.signerVerifier"
  member        = google_service_account.gate[each.key].member
}

# sign-and-create attaches an occurrence to the attestor's note...
resource "google_container_analysis_note_iam_member" "gate_attacher" {
  for_each = local.gate
  note     = google_container_analysis_note.gate[each.key].name
  role     = "roles/containeranalysis.notes.attacher"
  member   = google_service_account.gate[each.key].member
}

# ...writes that occurrence in the project...
resource "google_project_iam_member" "gate_occurrences" {
  for_each = local.gate
  project  = var.project_id
  role     = "roles/containeranalysis.occurrences.editor"
  member   = google_service_account.gate[each.key].member
}

# ...and reads the attestor to find its note and key.
resource "google_binary_authorization_attestor_iam_member" "gate_viewer" {
  for_each = local.gate
  attestor = google_binary_authorization_attestor.gate[each.key].name
  role     = "roles/binaryauthorization.attestorsViewer"
  member   = google_service_account.gate[each.key].member
}
