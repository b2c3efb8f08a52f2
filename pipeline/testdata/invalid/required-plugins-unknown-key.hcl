required_plugins {
  acme-license = { version = "1.0" } # ERROR: 2:20 Unsupported argument in required_plugins
}

pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
}
