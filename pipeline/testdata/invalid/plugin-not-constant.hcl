variable "hook_plugin" {
  default = "script"
}

pipeline "x" {
  stage "provision" "template" {}
  stage "reinstall-hook" "hook" {
    plugin = var.hook_plugin # ERROR: 8:14 Invalid plugin
    script = "/etc/vz/conf/vps.reinstall"
  }
  stage "swap" "swap" {}
}
