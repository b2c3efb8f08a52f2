required_plugins {
  acme-license = { sha256 = "abc123" } # ERROR: 2:29 Invalid SHA-256
}

pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
}
