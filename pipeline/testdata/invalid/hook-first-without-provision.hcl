# The hook runs first, into an empty area, and nothing provisions after it.
pipeline "x" {
  stage "reinstall-hook" "vps-reinstall" { # WARNING: 3:9 Nothing provisions after the hook
    script = "/etc/vz/conf/vps.reinstall"
  }
  stage "swap" "swap" {}
}
