# The order of Virtuozzo 7's libvzctl: vps.reinstall runs first, into an
# empty temporary area, and the OS template is unpacked only when the
# script answers "default" (exit 128, or no script at all). A script that
# exits 0 fills the area itself: its content becomes the new private area.
pipeline "libvzctl-compatible" {
  # --ve_private_tmp is an empty directory here. Exit 128 empties it again.
  stage "reinstall-hook" "vps-reinstall" {
    script = "/etc/vz/conf/vps.reinstall"
  }

  # Fills the (empty) temporary area from the template in "default" mode.
  stage "provision" "template" {
    when = stage.vps-reinstall.mode == "default"
  }

  stage "swap" "swap" {
    mode = try(stage.vps-reinstall.mode, "default")
  }

  stage "start" "start" {}

  stage "configure" "vps-configure" {
    script = "/etc/vz/conf/vps.configure"
    when   = stage.vps-reinstall.mode == "custom"
  }

  # Merge the old /etc/passwd, shadow and group into the new ones.
  stage "configure" "credentials" {
    plugin = "credentials"
    when   = !opts.resetpwdb
  }

  # The host's /etc/vz/reinstall.d/*.sh hooks (and the old container's
  # own, when named by --scripts) run inside the container.
  stage "configure" "reinstall-scripts" {
    plugin = "reinstall-scripts"
    when   = !opts.skipscripts
  }

  # Wait until the new system is up: where its init is systemd, systemctl
  # is-system-running must say running, or degraded (failed units are
  # logged as a warning). If it does not within wait, the run rolls back to
  # the old container. --no-health skips it.
  stage "configure" "health" {
    plugin         = "health"
    systemd        = "auto"
    allow_degraded = true
    wait           = "2m"
    when           = !opts.nohealth
  }

  stage "backup-retention" "retention" {}
}
