pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
}

pipeline "y" { # ERROR: 6:1 Duplicate pipeline block
  stage "provision" "template" {}
  stage "swap" "swap" {}
}
