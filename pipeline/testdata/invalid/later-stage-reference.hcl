pipeline "x" {
  stage "provision" "template" {
    when = stage.hook.mode == "default" # ERROR: 3:12 Reference to a later stage
  }
  stage "reinstall-hook" "hook" {
    script = "/etc/vz/conf/vps.reinstall"
  }
  stage "swap" "swap" {}
}
