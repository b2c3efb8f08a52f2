locals {
  old = stage.swap.oldd # ERROR: 2:9 Reference to undeclared output
  up  = stage.start["running"] # ERROR: 3:9 Reference to undeclared output
}

pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "configure" "keep" {
    plugin = "copy-from-old"
    paths  = ["${local.old}/home"]
  }
}
