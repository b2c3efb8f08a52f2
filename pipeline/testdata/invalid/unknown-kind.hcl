pipeline "x" {
  stage "provison" "template" {} # ERROR: 2:9 Unknown stage kind
  stage "swap" "swap" {}
}
