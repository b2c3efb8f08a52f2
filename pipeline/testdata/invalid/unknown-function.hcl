pipeline "x" {
  stage "provision" "template" {}
  stage "reinstall-hook" "hook" {
    script = lowr("/ETC/VZ/CONF/VPS.REINSTALL") # ERROR: 4:14 Call to unknown function
  }
  stage "swap" "swap" {}
}
