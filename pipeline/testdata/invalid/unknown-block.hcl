# A typo in a top-level block type.
variables "dir" { # ERROR: 2:1 Unsupported block type
  default = "/x"
}

pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
}
