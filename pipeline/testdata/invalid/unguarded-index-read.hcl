pipeline "x" {
  stage "provision" "template" {}
  stage "reinstall-hook" "vps-reinstall" {
    script = "/etc/vz/conf/vps.reinstall"
    when   = !opts.skipscripts
  }
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "configure" "vps-configure" {
    script = "/etc/vz/conf/vps.configure"
    when   = stage.vps-reinstall["mode"] == "custom" # ERROR: 11:14 Unguarded read of a stage that may not run
  }
}
