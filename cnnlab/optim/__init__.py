"""Optimisers (``cnnlab.optim.SGD`` ...) and learning-rate schedulers (``cnnlab.optim.lr_scheduler``).

>>> import cnnlab
>>> model = cnnlab.nn.Linear(3, 1)
>>> optimizer = cnnlab.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
>>> scheduler = cnnlab.optim.lr_scheduler.StepLR(optimizer, step_size=10)
>>> loss = model(cnnlab.ones(4, 3)).sum()
>>> optimizer.zero_grad(); loss.backward(); optimizer.step(); scheduler.step()
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
