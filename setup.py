from setuptools import find_packages, setup

setup(
    name="analytics_service",
    version="0.1.0",
    description="Computes a news platform's dashboard cards on a schedule and serves them over HTTP.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=find_packages(include=["analytics_service", "analytics_service.*"]),
    install_requires=[
        "aiohttp>=3.11,<4",
        "aiohttp-security>=0.5,<0.6",
        "aiocron>=2.1,<3",
        "cronsim>=2.6,<3",
        "google-analytics-data>=0.18,<1",
        "mongomock>=4.3,<5",
        "prometheus-client>=0.20,<1",
        "pydantic>=2.7,<3",
        "pydantic-settings>=2.7,<3",
        "PyJWT>=2.10,<3",
        "pymongo>=4.13,<5",
        "tqdm>=4.66,<5",
    ],
    extras_require={
        "test": [
            "pytest>=8,<10",
            "pytest-aiohttp>=1.1,<2",
            "ruff>=0.8,<1",
        ],
    },
    entry_points={"console_scripts": ["analytics-service=analytics_service.cli:main"]},
)
