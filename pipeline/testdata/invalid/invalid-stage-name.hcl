pipeline "x" {
  stage "provision" "1st" {} # ERROR: 2:21 Invalid stage name
  stage "swap" "swap" {}
}
