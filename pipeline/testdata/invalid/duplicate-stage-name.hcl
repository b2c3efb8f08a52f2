pipeline "x" {
  stage "provision" "template" {}
  stage "swap" "template" {} # ERROR: 3:16 Duplicate stage name
}
