# Pinned versions: Terraform >= 1.6 and the google provider release whose
# schema test/unit/terraform.test.ts checks every resource argument against.
terraform {
  required_version = ">= 1.6"
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
