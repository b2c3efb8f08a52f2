pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "configure" "vps-configure" { # ERROR: 4:9 Stage out of order
    script = "/etc/vz/conf/vps.configure"
  }
  stage "start" "start" {}
}
