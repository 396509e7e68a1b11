"""Kubernetes manifests under test: rendered by kustomize, checked by schemas, policies, checkov.

The tools are the ones `make tools` (deploy/tools.sh) installs into the checkout's .local/; a
missing one is an error that says so, never a skip: CI must really run them.
"""
