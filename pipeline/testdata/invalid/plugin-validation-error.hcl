pipeline "x" {
  stage "provision" "template" {}
  stage "reinstall-hook" "hook" {
    script = "vps.reinstall" # ERROR: 4:14 Script path is not absolute
  }
  stage "swap" "swap" {}
}
