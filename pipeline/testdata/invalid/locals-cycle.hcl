locals {
  dir  = trimsuffix(local.hook, "/reinstall.sh") # ERROR: 2:10 Cycle in local values
  hook = "${local.dir}/reinstall.sh"
}

pipeline "x" {
  stage "provision" "template" {}
  stage "reinstall-hook" "hook" {
    script = local.hook
  }
  stage "swap" "swap" {}
}
