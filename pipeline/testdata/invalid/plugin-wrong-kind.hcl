pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "configure" "license" {
    plugin = "swap" # ERROR: 6:14 Plugin does not serve this stage kind
  }
}
