# The stock reinstall with the site's own scripts, kept in a directory of
# their own instead of /etc/vz/conf, and with timeouts: a script that hangs
# fails the run, which is rolled back, instead of holding the container.
#
#   reinstall --pipeline custom-scripts.hcl 101
#   reinstall --pipeline custom-scripts.hcl --var script_dir=/srv/reinstall 101

variable "script_dir" {
  description = "Directory of reinstall.sh and configure.sh (a host path, under --root)."
  type        = string
  default     = "/etc/vz/site"
}

locals {
  hook      = "${var.script_dir}/reinstall.sh"
  configure = "${var.script_dir}/configure.sh"
}

# without "vps-reinstall": site-reinstall runs the site's script instead
# without "vps-configure": site-configure runs the site's script instead
pipeline "custom-scripts" {
  stage "provision" "template" {}

  # The vps.reinstall contract: exit 0 keeps the temporary area ("custom"),
  # exit 128 asks for the stock template ("default"); no script: "default".
  stage "reinstall-hook" "site-reinstall" {
    script  = local.hook
    timeout = "10m"
  }

  stage "swap" "swap" {
    mode = try(stage.site-reinstall.mode, "default")
  }

  stage "start" "start" {}

  # Runs inside the new container, with the old files at /old.
  stage "configure" "site-configure" {
    script  = local.configure
    timeout = "5m"
    when    = stage.site-reinstall.mode == "custom"
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
