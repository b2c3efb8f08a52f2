pipeline "x" {
  stage "provision" "template" {} # ERROR: 2:3 No swap stage
}
