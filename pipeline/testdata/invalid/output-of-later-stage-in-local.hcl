locals {
  checks = stage.health.checks
}

pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "configure" "early" {
    plugin = "script"
    script = "/etc/vz/site/${local.checks}.sh" # ERROR: 11:30 Reference to a later stage
  }
  stage "configure" "health" {
    plugin = "health"
  }
}
