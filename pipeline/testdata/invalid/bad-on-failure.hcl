pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "configure" "vps-configure" {
    script     = "/etc/vz/conf/vps.configure"
    on_failure = "ignore" # ERROR: 7:18 Invalid on_failure
  }
}
