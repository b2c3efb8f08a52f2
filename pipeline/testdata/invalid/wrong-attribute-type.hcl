pipeline "x" {
  stage "provision" "template" {}
  stage "reinstall-hook" "hook" {
    script = ["/etc/vz/conf/vps.reinstall"] # ERROR: 4:14 Incorrect attribute value type
  }
  stage "swap" "swap" {}
}
