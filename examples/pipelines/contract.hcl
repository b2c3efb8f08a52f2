# The six stages of Parallels/Virtuozzo `pctl reinstall` as its manual page
# documents them: the default pipeline without the Virtuozzo 7 extras (the
# credential merge and the /etc/vz/reinstall.d hooks).
#
# without "credentials": the manual's six stages keep the template's accounts
# without "reinstall-scripts": the manual's six stages run no reinstall.d hook
# without "health": the manual's six stages check nothing after the start
pipeline "contract" {
  stage "provision" "template" {}
  stage "reinstall-hook" "vps-reinstall" {
    script = "/etc/vz/conf/vps.reinstall"
  }
  stage "swap" "swap" {
    mode = try(stage.vps-reinstall.mode, "default")
  }
  stage "start" "start" {}
  stage "configure" "vps-configure" {
    script = "/etc/vz/conf/vps.configure"
    when   = stage.vps-reinstall.mode == "custom"
  }
  stage "backup-retention" "retention" {}
}
