# The stock reinstall plus a vendor stage: ACME's license installer
# (examples/plugins/license-installer) writes the container's license key to
# /etc/acme-panel/license.key inside the new container and activates it.
#
# 1. Install the plugin, root-owned and writable by root alone:
#      make -C examples/plugins/license-installer install
#    (it goes to /etc/vz/reinstall/plugins/reinstall-plugin-acme-license and
#    the command prints the required_plugins block for this build).
# 2. Put that SHA-256 below: a plugin file that does not match is refused
#    before anything changes.
# 3. Keep the key in a file only root can read, and run
#      reinstall --pipeline with-license.hcl --var-file /root/acme.vars 101
#    where /root/acme.vars holds: license_key = "..."
#    The key reaches the plugin only through the host's GetSecret service:
#    never in its configuration, the journal, a log or an environment.

required_plugins {
  acme-license = { sha256 = "0000000000000000000000000000000000000000000000000000000000000000" }
}

variable "license_key" {
  type        = string
  sensitive   = true
  description = "ACME's license key for this container."
}

pipeline "with-license" {
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
  stage "configure" "license" {
    plugin      = "acme-license"
    timeout     = "2m"
    license_key = var.license_key
    product     = "acme-panel"
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
