# Every part of the language in one valid pipeline.
variable "script_dir" {
  description = "Where the site keeps vps.reinstall and vps.configure."
  type        = string
  default     = "/etc/vz/conf/"
}

variable "keep" {
  type    = list(string)
  default = ["/home", "/etc/ssh/ssh_host_*"]
}

variable "extra_keep" {
  type = list(string)
}

locals {
  dir       = trimsuffix(var.script_dir, "/")
  hook      = "${local.dir}/vps.reinstall"
  configure = format("%s/vps.configure", local.dir)
  custom    = stage.vps-reinstall.mode == "custom"
  keep      = distinct(concat(var.keep, var.extra_keep))
}

pipeline "everything" {
  stage "provision" "template" {
    timeout = "30m"
  }

  stage "reinstall-hook" "vps-reinstall" {
    plugin = "script"
    script = local.hook
  }

  stage "swap" "swap" {}

  stage "start" "start" {}

  stage "configure" "vps-configure" {
    script     = local.configure
    when       = local.custom && !startswith(ct.ostemplate, "windows")
    on_failure = "continue"
  }

  stage "configure" "keep" {
    plugin = "copy-from-old"
    paths  = local.keep
    when   = length(local.keep) > 0 && lookup(ct.config, "KEEP_OLD", "yes") != "no"
  }

  stage "backup-retention" "retention" {
    when = opts.skipbackup || !opts.skipbackup
  }
}
