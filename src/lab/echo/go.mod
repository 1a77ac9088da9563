module calico-lab/echo

go 1.22
