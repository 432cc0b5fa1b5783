import os

MODE = os.environ.get("APP_MODE", "development")

if __name__ == "__main__":
    print(f"{os.environ.get('GREETING')} in {MODE} mode")
