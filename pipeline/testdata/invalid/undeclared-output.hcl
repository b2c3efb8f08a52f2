pipeline "x" {
  stage "provision" "template" {}
  stage "reinstall-hook" "vps-reinstall" {
    script = "/etc/vz/conf/vps.reinstall"
  }
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "configure" "vps-configure" {
    script = "/etc/vz/conf/vps.configure"
    when   = stage.vps-reinstall.mdoe == "custom" # ERROR: 10:14 Reference to undeclared output
  }
}
