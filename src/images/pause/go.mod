module calico-lab/pause

go 1.22
