output "urls" {
  description = "Function URLs (the audience build steps and readers mint tokens for)."
  value       = local.urls
}

output "report_url" {
  description = "Where build steps report: PROVENANCE_URL."
  value       = local.urls["selfReport"]
}

output "read_url" {
  description = "The read API: PROVENANCE_URL for fetch, keys and verify."
  value       = local.urls["provenanceApi"]
}

output "kms_key_version" {
  description = "The key version that signs (KMS_KEY_VERSION)."
  value       = local.key_version
}

output "topics" {
  description = "Pub/Sub topic names."
  value = {
    upload_complete   = google_pubsub_topic.upload_complete.name
    sweep             = google_pubsub_topic.sweep.name
    provenance_events = google_pubsub_topic.events.name
    dead_letter       = google_pubsub_topic.dead_letter.name
  }
}

output "builder_id" {
  description = "The exact BUILDER_ID in every statement: pass it to `provenance verify --builder-id`."
  value       = local.builder_id
}

output "binauthz_gate" {
  description = "The deploy gate (binauthz_gate = true): attestor, its KMS key version (the gate's --vsa-key, as gcpkms://…) and the gate's service account; null otherwise."
  value = var.binauthz_gate ? {
    attestor        = google_binary_authorization_attestor.gate["gate"].id
    vsa_key         = "gcpkms://${google_kms_crypto_key.gate["gate"].id}/cryptoKeyVersions/${data.google_kms_crypto_key_version.gate["gate"].version}"
    service_account = google_service_account.gate["gate"].email
  } : null
}
