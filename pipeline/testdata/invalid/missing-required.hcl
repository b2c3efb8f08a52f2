pipeline "x" {
  stage "provision" "template" {}
  stage "reinstall-hook" "hook" {} # ERROR: 3:33 Missing required argument
  stage "swap" "swap" {}
}
