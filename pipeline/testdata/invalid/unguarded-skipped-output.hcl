locals {
  custom = stage.vps-reinstall.mode == "custom" # ERROR: 2:12 Unguarded read of a stage that may not run
}

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
    when   = stage.vps-reinstall.mode == "custom" # ERROR: 15:14 Unguarded read of a stage that may not run
  }
  stage "configure" "guarded" {
    plugin = "script"
    script = "/etc/vz/conf/vps.configure"
    when   = can(stage.vps-reinstall.mode) && try(stage.vps-reinstall.exit, 1) == 0
  }
}
