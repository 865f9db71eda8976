# A first deployment: copy, edit the identities, then
#   terraform -chdir=infra apply -var-file=examples/first-deployment.tfvars
project_id  = "my-provenance-project"
region      = "us-central1"
environment = "prod"

# Cloud Build's default service account reports (or the one your triggers use).
reporters = ["123456789012@cloudbuild.gserviceaccount.com"]
readers   = ["release-bot@my-provenance-project.iam.gserviceaccount.com"]
operators = ["oncall@example.com"]
