pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "configure" "vps-configure" {
    plugin = "scrpt" # ERROR: 6:14 Unknown plugin
    script = "/etc/vz/conf/vps.configure"
  }
}
