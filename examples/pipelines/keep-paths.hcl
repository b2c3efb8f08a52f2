# The default pipeline, then the customer's home directories and the SSH host
# keys copied back from the old private area, so that users keep their files
# and clients do not see a changed host key. Owners, modes, xattrs and hard
# links are kept; symlinks are copied as symlinks, never followed.
#
#   reinstall --pipeline keep-paths.hcl 101
#   reinstall --pipeline keep-paths.hcl --var 'keep=["/home", "/root"]' 101

variable "keep" {
  description = "Absolute paths, as the container sees them, to copy from the old area (* ? [..] match within one component)."
  type        = list(string)
  default     = ["/home", "/etc/ssh/ssh_host_*"]
}

pipeline "keep-paths" {
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

  # Runs in both modes, and with --skipbackup too: the old area is deleted
  # only by the retention stage after it.
  stage "configure" "keep-paths" {
    plugin  = "copy-from-old"
    paths   = var.keep
    timeout = "30m"
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
