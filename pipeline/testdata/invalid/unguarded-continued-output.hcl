pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "configure" "optional" {
    plugin     = "script"
    script     = "/etc/vz/conf/optional.sh"
    on_failure = "continue"
  }
  stage "configure" "after" {
    plugin = "script"
    script = "/etc/vz/conf/${stage.optional.exit}.sh" # ERROR: 12:30 Unguarded read of a stage that may not run
  }
}
