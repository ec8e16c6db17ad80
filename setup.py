from setuptools import find_packages, setup


def read_requirements(path: str) -> list:
    with open(path) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


def read_version() -> str:
    scope: dict = {}
    with open('mmssl_seg/version.py') as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='mmssl_seg',
    version=read_version(),
    description='Label-efficient pretraining for semantic segmentation: '
    'an OpenMMLab plugin for MMSegmentation 1.x and MMPretrain 1.x',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(
        exclude=('configs', 'tools', 'tests', 'benchmarks*')),
    # configs, tools and the model index ship inside the package as OpenMMLab
    # packages do (``mmssl_seg::`` config bases, ``mim``); mmssl_seg/.mim
    # holds links to the repository's folders, copied into a built wheel.
    package_data={
        'mmssl_seg': [
            '.mim/model-index.yml', '.mim/configs/**/*.py',
            '.mim/configs/**/*.md', '.mim/configs/**/*.yml',
            '.mim/tools/**/*.py', '.mim/tools/**/*.sh',
            # the structured edge forest make_hierarchies.py uses by default
            'priors/hierarchy/models/*.npz', 'priors/hierarchy/models/*.yml',
            # the fixed train / val split of the Weizmann horses
            'datasets/splits/*.txt'
        ]
    },
    python_requires='>=3.9',
    install_requires=read_requirements('requirements/runtime.txt'),
    extras_require={
        'tests': read_requirements('requirements/tests.txt'),
        'optional': read_requirements('requirements/optional.txt'),
        'mim': read_requirements('requirements/mminstall.txt'),
    },
    license='Apache License 2.0',
    zip_safe=False)
