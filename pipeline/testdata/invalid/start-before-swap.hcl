pipeline "x" {
  stage "provision" "template" {}
  stage "start" "start" {} # ERROR: 3:9 Stage out of order
  stage "swap" "swap" {}
}
