locals {
  hook = "/etc/vz/site/reinstall.sh"
}

pipeline "x" {
  stage "provision" "template" {}
  stage "reinstall-hook" "hook" {
    script = local.hok # ERROR: 8:14 Reference to undeclared local value
  }
  stage "swap" "swap" {}
}
