# Pinned versions: Terraform >= 1.6 and the google provider release whose
# schema test/unit/terraform.test.ts checks every resource argument against.
terraform {
  required_version = ">= 1.6"
  # State in a bucket: terraform init -backend-config=bucket=<bucket> -backend-config=prefix=<environment>
  backend "gcs" {}
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "6.50.0"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}
