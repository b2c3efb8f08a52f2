pipeline "x" {
  stage "swap" "swap" {} # ERROR: 2:9 Stage out of order
  stage "provision" "template" {} # ERROR: 3:9 Stage out of order
}
