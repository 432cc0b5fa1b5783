import requests

print("cloudbuild example, requests", requests.__version__)
