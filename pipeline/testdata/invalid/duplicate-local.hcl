locals {
  dir = "/a"
}

locals {
  dir = "/b" # ERROR: 6:3 Duplicate local value
}

pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
}
