pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "start" "start" {}
  stage "configure" "keep" {
    plugin = "copy-from-old"
    paths  = stage.swap.old # ERROR: 7:14 Incorrect attribute value type
  }
}
