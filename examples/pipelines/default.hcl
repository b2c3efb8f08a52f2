# The stock reinstall: Parallels/Virtuozzo `pctl reinstall`, as documented in
# "Customizing Container Reinstallation". Every stage runs in a built-in plugin.
pipeline "default" {
  # Unpack the OS template into <VE_PRIVATE>.reinstall.
  stage "provision" "template" {}

  # vps.reinstall: exit 0 keeps its temporary area ("custom" mode),
  # exit 128 asks for the stock template ("default" mode).
  stage "reinstall-hook" "vps-reinstall" {
    script = "/etc/vz/conf/vps.reinstall"
  }

  # Exchange the areas; the old one appears as /old in the new container
  # (with --skipbackup, in mode "custom" only; in mode "default" it is parked
  # beside the new one until the retention stage deletes it).
  stage "swap" "swap" {
    mode = try(stage.vps-reinstall.mode, "default")
  }

  stage "start" "start" {}

  # vps.configure runs inside the container, only after vps.reinstall exit 0
  # (try: if vps-reinstall is skipped, its outputs are null).
  stage "configure" "vps-configure" {
    script = "/etc/vz/conf/vps.configure"
    when   = try(stage.vps-reinstall.mode, "default") == "custom"
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

  # Keep /old, or delete the old area with --skipbackup.
  stage "backup-retention" "retention" {}
}
