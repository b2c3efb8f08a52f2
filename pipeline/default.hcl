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

  # Exchange the areas; the old one appears as /old in the new container.
  stage "swap" "swap" {}

  stage "start" "start" {}

  # vps.configure runs inside the container, only after vps.reinstall exit 0.
  stage "configure" "vps-configure" {
    script = "/etc/vz/conf/vps.configure"
    when   = stage.vps-reinstall.mode == "custom"
  }

  # Keep /old, or delete the old area with --skipbackup.
  stage "backup-retention" "retention" {}
}
