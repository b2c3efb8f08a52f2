pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "swap" {}
  stage "swap" "swap-again" {} # ERROR: 4:9 More than one swap stage
}
