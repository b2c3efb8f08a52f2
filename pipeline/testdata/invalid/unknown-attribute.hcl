pipeline "x" {
  stage "provision" "template" {}
  stage "reinstall-hook" "hook" {
    scrip = "/etc/vz/conf/vps.reinstall" # ERROR: 4:5 Unsupported argument
  }
  stage "swap" "swap" {}
}
